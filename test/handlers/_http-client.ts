import http from 'node:http';

/**
 * A request whose body is sent in two parts, with `between` run after the first: it holds a request
 * in flight for as long as a test needs (fetch cannot pause an upload).
 */
export function twoPartRequest(url: string, body: string, between: () => Promise<void>): Promise<{ status: number; headers: http.IncomingHttpHeaders; json: any }> {
  const bytes = Buffer.from(body);
  const half = Math.floor(bytes.length / 2);
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', agent: false, headers: { 'content-type': 'application/json', 'content-length': bytes.length } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        try {
          resolve({ status: res.statusCode ?? 0, headers: res.headers, json: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
        } catch (e) {
          reject(e);
        }
      });
    });
    req.on('error', reject);
    req.write(bytes.subarray(0, half), () => {
      between().then(() => req.end(bytes.subarray(half)), reject);
    });
  });
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
