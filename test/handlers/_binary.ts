/**
 * Builds a request body in the v2 binary tensor data extension: the JSON header, then each
 * buffer's bytes, with `binary_data_size` set on the first `buffers.length` inputs.
 */
export function binaryRequest(header: { inputs: Record<string, unknown>[]; [k: string]: unknown }, buffers: ArrayBufferView[]): { body: Buffer; headers: Record<string, string> } {
  const inputs = header.inputs.map((t, i) => (i < buffers.length
    ? { ...t, parameters: { ...(t.parameters as object | undefined), binary_data_size: buffers[i].byteLength } }
    : t));
  const json = Buffer.from(JSON.stringify({ ...header, inputs }));
  const body = Buffer.concat([json, ...buffers.map((b) => Buffer.from(b.buffer, b.byteOffset, b.byteLength))]);
  return { body, headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(json.length) } };
}

/** Splits a binary response into its JSON header and each binary output's bytes, by name. */
export function parseBinaryResponse(body: Buffer, headerLength: number): { json: any; binary: Record<string, Buffer> } {
  const json = JSON.parse(body.toString('utf8', 0, headerLength));
  const binary: Record<string, Buffer> = {};
  let at = headerLength;
  for (const o of json.outputs) {
    const size = o.parameters?.binary_data_size;
    if (size === undefined) continue;
    binary[o.name] = body.subarray(at, at + size);
    at += size;
  }
  if (at !== body.length) throw new Error(`${body.length - at} bytes left after the binary outputs`);
  return { json, binary };
}
