// Deliberately invalid: the bundler must report this file and line.
export const handler = async () => {
  return { ok: true ;
};
