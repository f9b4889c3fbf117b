/**
 * Recognises files that are commonly mistaken for an ONNX model, so the error can say what the
 * file is instead of "invalid protobuf".
 */

const MAGIC: { bytes: number[]; at?: number; what: string }[] = [
  { bytes: [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], what: 'a PNG image' },
  { bytes: [0xff, 0xd8, 0xff], what: 'a JPEG image' },
  { bytes: [0x47, 0x49, 0x46, 0x38], what: 'a GIF image' },
  { bytes: [0x25, 0x50, 0x44, 0x46], what: 'a PDF document' },
  { bytes: [0x50, 0x4b, 0x03, 0x04], what: 'a ZIP archive (PyTorch .pt/.pth checkpoints and Keras .keras files are ZIP archives)' },
  { bytes: [0x1f, 0x8b], what: 'a gzip archive (extract it; the .onnx file may be inside)' },
  { bytes: [0x89, 0x48, 0x44, 0x46], what: 'an HDF5 file (a Keras .h5 model)' },
  { bytes: [0x54, 0x46, 0x4c, 0x33], at: 4, what: 'a TensorFlow Lite model' },
  { bytes: [0x7f, 0x45, 0x4c, 0x46], what: 'an ELF executable or shared library' },
];

/** What the file is, when it is a well-known non-ONNX format; undefined otherwise. */
export function recogniseNonOnnx(buf: Uint8Array): string | undefined {
  for (const m of MAGIC) {
    const at = m.at ?? 0;
    if (buf.length >= at + m.bytes.length && m.bytes.every((b, i) => buf[at + i] === b)) return m.what;
  }
  // A pickle (PyTorch's legacy format, scikit-learn's joblib) starts with PROTO 2..5.
  if (buf.length >= 2 && buf[0] === 0x80 && buf[1] >= 2 && buf[1] <= 5) return 'a Python pickle (a PyTorch or scikit-learn model saved with pickle/joblib)';
  if (looksLikeSafetensors(buf)) return 'a safetensors weights file (weights without a graph)';
  return undefined;
}

/** safetensors: an 8-byte little-endian header length, then a JSON header starting with `{`. */
function looksLikeSafetensors(buf: Uint8Array): boolean {
  if (buf.length < 10 || buf[8] !== 0x7b) return false;
  const view = new DataView(buf.buffer, buf.byteOffset, 8);
  const headerLen = view.getBigUint64(0, true);
  return headerLen > 1n && headerLen <= BigInt(buf.length - 8);
}

export interface LfsPointer {
  oid?: string;
  size?: number;
}

const LFS_PREFIX = 'version https://git-lfs.github.com/spec/';

/** A Git LFS pointer: the small text file a clone leaves in place of the real content. */
export function parseLfsPointer(buf: Uint8Array): LfsPointer | undefined {
  if (buf.length > 1024) return undefined;
  const text = Buffer.from(buf.buffer, buf.byteOffset, buf.length).toString('utf8');
  if (!text.startsWith(LFS_PREFIX)) return undefined;
  const oid = /^oid (\S+)$/m.exec(text)?.[1];
  const size = /^size (\d+)$/m.exec(text)?.[1];
  return { oid, size: size === undefined ? undefined : Number(size) };
}

/**
 * Describes a file whose start is text. A serialized ModelProto starts with the ir_version tag
 * (0x08, a control character), so text is never a model.
 */
export function describeText(buf: Uint8Array): string | undefined {
  const head = buf.subarray(0, 512);
  if (head.length === 0) return undefined;
  for (const b of head) if (b < 0x09 || (b > 0x0d && b < 0x20) || b === 0x7f) return undefined;
  const text = Buffer.from(head.buffer, head.byteOffset, head.length).toString('utf8').trimStart();
  const firstLine = text.split(/\r?\n/, 1)[0].slice(0, 60);
  if (/^<(!doctype html|html)/i.test(text)) {
    return `an HTML page, starting "${firstLine}" (a download that returned a web page instead of the file does this)`;
  }
  if (/^[{[]/.test(text)) return `a JSON or other text file, starting "${firstLine}"`;
  return `a text file, starting "${firstLine}"`;
}
