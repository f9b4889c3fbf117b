// Answers a Function URL request with a response document; the query picks which.
export const handler = async (event) => {
  const q = event.queryStringParameters ?? {};
  if (q.kind === 'binary') {
    return {
      statusCode: 201,
      headers: { 'Content-Type': 'application/octet-stream', 'X-Bytes': '256' },
      cookies: ['a=1; Path=/', 'b=2'],
      body: Buffer.from(Array.from({ length: 256 }, (_, i) => i)).toString('base64'),
      isBase64Encoded: true,
    };
  }
  if (q.kind === 'status') return { statusCode: Number(q.code), headers: { 'content-type': 'text/plain' }, body: `status ${q.code}` };
  if (q.kind === 'string') return 'Hello, world!';
  if (q.kind === 'throw') throw new Error('failed on purpose');
  if (q.kind === 'body') {
    const bytes = event.body === undefined ? [] : [...Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8')];
    return { statusCode: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ isBase64Encoded: event.isBase64Encoded, body: event.body, bytes: bytes.length, sum: bytes.reduce((a, b) => a + b, 0) }) };
  }
  return event;
};
