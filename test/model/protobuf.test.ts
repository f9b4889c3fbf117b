import { describe, expect, it } from 'vitest';
import { ProtoError, ProtoReader, WIRE_FIXED32, WIRE_LEN, WIRE_VARINT } from '../../src/model/_protobuf.js';

const reader = (...bytes: number[]) => new ProtoReader(new Uint8Array(bytes));

function failure(fn: () => unknown): ProtoError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ProtoError) return e;
    throw e;
  }
  throw new Error('expected a ProtoError');
}

describe('ProtoReader.varint', () => {
  it.each([
    [[0x00], 0],
    [[0x01], 1],
    [[0x96, 0x01], 150],
    [[0xff, 0xff, 0xff, 0xff, 0x0f], 2 ** 32 - 1],
    [[0x80, 0x80, 0x80, 0x80, 0x10], 2 ** 32],
    [[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f], 2 ** 53 - 1],
    // int64 -1 and -2 are ten-byte two's complement varints
    [[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01], -1],
    [[0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01], -2],
  ])('%j reads as %d', (bytes, value) => {
    const r = reader(...bytes);
    expect(r.varint()).toBe(value);
    expect(r.done).toBe(true);
  });

  it('a varint that stops at the end of the data is truncated', () => {
    expect(failure(() => reader(0x96).varint())).toMatchObject({ reason: 'truncated', offset: 0 });
  });

  it('an eleven-byte varint is malformed', () => {
    expect(failure(() => reader(...Array(10).fill(0x80), 0x01).varint()).reason).toBe('malformed');
  });
});

describe('ProtoReader.tag', () => {
  it('splits the key into field number and wire type', () => {
    expect(reader(0x3a).tag()).toEqual({ field: 7, wire: WIRE_LEN });
    expect(reader(0xf8, 0x01).tag()).toEqual({ field: 31, wire: WIRE_VARINT });
  });

  it('rejects field 0 and the group wire types', () => {
    expect(failure(() => reader(0x02).tag()).message).toMatch(/invalid field number 0/);
    expect(failure(() => reader(0x0b).tag()).message).toMatch(/unsupported wire type 3/);
    expect(failure(() => reader(0x0f).tag()).message).toMatch(/unsupported wire type 7/);
  });
});

describe('length-delimited fields', () => {
  it('bytes() is a view into the same buffer, not a copy', () => {
    const buf = new Uint8Array([0x03, 0x61, 0x62, 0x63, 0x09]);
    const r = new ProtoReader(buf);
    const view = r.bytes();
    expect(view.buffer).toBe(buf.buffer);
    expect([...view]).toEqual([0x61, 0x62, 0x63]);
    expect(r.pos).toBe(4);
  });

  it('skipLen() advances past the field and returns its length', () => {
    const r = reader(0x03, 1, 2, 3, 0x05);
    expect(r.skipLen()).toBe(3);
    expect(r.varint()).toBe(5);
  });

  it('a field longer than the data is truncated at the top level', () => {
    expect(failure(() => reader(0x05, 1, 2).skipLen())).toMatchObject({ reason: 'truncated' });
  });

  it('a field longer than its enclosing message is malformed, not truncated', () => {
    const outer = reader(0x02, 0x05, 0x01, 0x00);
    const inner = outer.message();
    expect(failure(() => inner.skipLen())).toMatchObject({ reason: 'malformed' });
  });

  it('string() decodes UTF-8', () => {
    expect(reader(0x03, 0xc3, 0xa9, 0x74).string()).toBe('ét');
  });
});

describe('repeated fields', () => {
  it('reads packed and unpacked varints', () => {
    const out: number[] = [];
    reader(0x03, 0x01, 0x96, 0x01).repeatedVarint(WIRE_LEN, out);
    reader(0x07).repeatedVarint(WIRE_VARINT, out);
    expect(out).toEqual([1, 150, 7]);
  });

  it('counts packed fixed-width and varint runs without decoding them', () => {
    expect(reader(0x08, 0, 0, 0x80, 0x3f, 0, 0, 0, 0x40).countRepeated(WIRE_LEN, WIRE_FIXED32)).toBe(2);
    expect(reader(0x04, 0x01, 0x96, 0x01, 0x7f).countRepeated(WIRE_LEN, WIRE_VARINT)).toBe(3);
    expect(reader(0x00).countRepeated(WIRE_LEN, WIRE_VARINT)).toBe(0);
  });

  it('counts an unpacked entry as one', () => {
    const r = reader(0x96, 0x01);
    expect(r.countRepeated(WIRE_VARINT, WIRE_VARINT)).toBe(1);
    expect(r.done).toBe(true);
  });

  it('rejects packed runs that do not divide into whole values', () => {
    expect(failure(() => reader(0x03, 0, 0, 0).countRepeated(WIRE_LEN, WIRE_FIXED32)).reason).toBe('malformed');
    expect(failure(() => reader(0x02, 0x01, 0x80).countRepeated(WIRE_LEN, WIRE_VARINT)).reason).toBe('malformed');
  });
});

describe('skip', () => {
  it('skips each wire type', () => {
    const r = reader(0x96, 0x01, 1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 0x02, 9, 9, 0x2a);
    r.skip(0);
    r.skip(1);
    r.skip(5);
    r.skip(2);
    expect(r.varint()).toBe(42);
  });

  it('a fixed64 value past the end is truncated', () => {
    expect(failure(() => reader(1, 2, 3).skip(1)).reason).toBe('truncated');
  });
});
