export const config = { name: 'cls' };
