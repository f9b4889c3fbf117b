/**
 * A minimal reader of the protobuf wire format, enough to walk an ONNX ModelProto.
 *
 * It never copies: `bytes()` and `message()` return views into the one buffer the file was read
 * into, and large fields (initializer weights) are skipped by advancing an offset. That keeps
 * inspecting a model cheap however big its weights are; a generated decoder would copy every
 * `raw_data` into its own array.
 */

export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_LEN = 2;
export const WIRE_FIXED32 = 5;

/** Why a buffer could not be decoded. */
export type ProtoErrorReason =
  /** A field runs past the end of the buffer: the bytes stop mid-field. */
  | 'truncated'
  /** The bytes are not valid protobuf (bad tag, wire type, varint, or a field that overruns its parent). */
  | 'malformed';

export class ProtoError extends Error {
  override readonly name = 'ProtoError';
  constructor(readonly reason: ProtoErrorReason, message: string, readonly offset: number) {
    super(`${message} at byte ${offset}`);
  }
}

const utf8 = new TextDecoder('utf-8');

export class ProtoReader {
  pos: number;
  readonly end: number;

  constructor(readonly buf: Uint8Array, start = 0, end = buf.length) {
    this.pos = start;
    this.end = end;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  /** Reads a field tag. Field 0 and the deprecated group wire types (3, 4) are rejected. */
  tag(): { field: number; wire: number } {
    const at = this.pos;
    const key = this.varint();
    const wire = key % 8;
    const field = Math.floor(key / 8);
    if (field === 0 || field > 0x1fffffff) throw new ProtoError('malformed', `invalid field number ${field}`, at);
    if (wire !== WIRE_VARINT && wire !== WIRE_FIXED64 && wire !== WIRE_LEN && wire !== WIRE_FIXED32) {
      throw new ProtoError('malformed', `unsupported wire type ${wire} for field ${field}`, at);
    }
    return { field, wire };
  }

  /**
   * Reads a varint as a JS number. int64 values are two's complement, so a 10-byte varint with the
   * top bit set is negative; values beyond 2^53 lose precision, which is fine for dims and counts.
   */
  varint(): number {
    const at = this.pos;
    let lo = 0;
    let hi = 0;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw this.overrun('varint', at);
      const b = this.buf[this.pos++];
      if (i < 4) lo |= (b & 0x7f) << (7 * i);
      else if (i === 4) {
        lo |= (b & 0x0f) << 28;
        hi |= (b & 0x7f) >> 4;
      } else hi |= (b & 0x7f) << (7 * i - 32);
      if ((b & 0x80) === 0) {
        lo >>>= 0;
        return hi & 0x80000000 ? -((~hi >>> 0) * 2 ** 32 + (~lo >>> 0) + 1) : (hi >>> 0) * 2 ** 32 + lo;
      }
    }
    throw new ProtoError('malformed', 'varint longer than 10 bytes', at);
  }

  /** A length-delimited field as a view into the buffer (no copy). */
  bytes(): Uint8Array {
    const [start, end] = this.span();
    return this.buf.subarray(start, end);
  }

  string(): string {
    return utf8.decode(this.bytes());
  }

  /** A reader over an embedded message. */
  message(): ProtoReader {
    const [start, end] = this.span();
    return new ProtoReader(this.buf, start, end);
  }

  /** Advances past a length-delimited field and returns its length. */
  skipLen(): number {
    const [start, end] = this.span();
    return end - start;
  }

  /** Skips a field's value of any supported wire type. */
  skip(wire: number): void {
    switch (wire) {
      case WIRE_VARINT: this.varint(); return;
      case WIRE_FIXED64: this.advance(8); return;
      case WIRE_FIXED32: this.advance(4); return;
      case WIRE_LEN: this.span(); return;
      default: throw new ProtoError('malformed', `unsupported wire type ${wire}`, this.pos);
    }
  }

  /** Reads a repeated varint field, packed (wire 2) or not (wire 0), appending to `into`. */
  repeatedVarint(wire: number, into: number[]): void {
    if (wire === WIRE_VARINT) {
      into.push(this.varint());
      return;
    }
    this.expect(wire, WIRE_LEN);
    const sub = this.message();
    while (!sub.done) into.push(sub.varint());
  }

  /**
   * Counts the elements of a repeated numeric field without decoding them: packed runs are
   * measured (fixed widths) or scanned for varint ends, unpacked entries count one each.
   */
  countRepeated(wire: number, elementWire: number): number {
    if (wire === elementWire) {
      this.skip(wire);
      return 1;
    }
    this.expect(wire, WIRE_LEN);
    const at = this.pos;
    const [start, end] = this.span();
    if (elementWire === WIRE_FIXED32 || elementWire === WIRE_FIXED64) {
      const width = elementWire === WIRE_FIXED32 ? 4 : 8;
      if ((end - start) % width !== 0) throw new ProtoError('malformed', `packed field of ${end - start} bytes is not a multiple of ${width}`, at);
      return (end - start) / width;
    }
    // Each varint ends at a byte without the continuation bit.
    let n = 0;
    for (let i = start; i < end; i++) if ((this.buf[i] & 0x80) === 0) n++;
    if (end > start && (this.buf[end - 1] & 0x80) !== 0) throw new ProtoError('malformed', 'packed varints end mid-value', at);
    return n;
  }

  /** Throws when a known field arrives with the wrong wire type: the bytes are not what we think. */
  expect(wire: number, wanted: number): void {
    if (wire !== wanted) throw new ProtoError('malformed', `wire type ${wire} where ${wanted} was expected`, this.pos);
  }

  private span(): [number, number] {
    const at = this.pos;
    const len = this.varint();
    if (len < 0) throw new ProtoError('malformed', `negative length ${len}`, at);
    const start = this.pos;
    if (len > this.end - start) throw this.overrun(`field of ${len} bytes`, at);
    this.pos = start + len;
    return [start, this.pos];
  }

  private advance(n: number): void {
    if (n > this.end - this.pos) throw this.overrun(`${n}-byte value`, this.pos);
    this.pos += n;
  }

  /** Running past the buffer's end means the bytes stop early; past a parent field's end, they are corrupt. */
  private overrun(what: string, at: number): ProtoError {
    return this.end === this.buf.length
      ? new ProtoError('truncated', `${what} runs past the end of the data`, at)
      : new ProtoError('malformed', `${what} runs past the end of its enclosing field`, at);
  }
}
