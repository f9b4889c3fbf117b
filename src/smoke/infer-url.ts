/** The v2 infer URL of a model under a server's base URL. */
export function inferUrl(baseUrl: string, modelName: string): string {
  return new URL(`v2/models/${encodeURIComponent(modelName)}/infer`, baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`).href;
}
