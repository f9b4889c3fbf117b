// Returns a string whose JSON (what the runtime posts) is exactly `event.bytes` long.
export const handler = async (event) => 'x'.repeat(event.bytes - 2);
