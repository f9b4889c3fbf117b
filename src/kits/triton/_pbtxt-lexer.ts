/**
 * Tokens of protobuf text format: identifiers, numbers, string literals (adjacent ones joined)
 * and the punctuation `{ } [ ] < > : , ;`. `#` starts a comment to the end of the line.
 */

export type TokenKind = 'ident' | 'number' | 'string' | 'punct' | 'eof';

export interface Token {
  kind: TokenKind;
  /** The source text (for strings: the decoded value). */
  text: string;
  line: number;
  column: number;
}

export class PbtxtSyntaxError extends Error {
  override readonly name = 'PbtxtSyntaxError';
  constructor(message: string, readonly line: number, readonly column: number) {
    super(message);
  }
}

const PUNCT = new Set(['{', '}', '[', ']', '<', '>', ':', ',', ';']);
const IDENT = /[A-Za-z_][A-Za-z0-9_]*/y;
// Decimal, hex or octal integers and floats, with an optional sign and float suffix.
const NUMBER = /-?(?:0[xX][0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?[fF]?)(?![A-Za-z0-9_.])/y;

export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let pos = 0;
  let line = 1;
  let lineStart = 0;
  const column = (at: number) => at - lineStart + 1;

  while (pos < text.length) {
    const ch = text[pos];
    if (ch === '\n') {
      pos++;
      line++;
      lineStart = pos;
      continue;
    }
    if (ch === ' ' || ch === '\t' || ch === '\r' || ch === '\f' || ch === '\v') {
      pos++;
      continue;
    }
    if (ch === '#') {
      while (pos < text.length && text[pos] !== '\n') pos++;
      continue;
    }
    const at = { line, column: column(pos) };
    if (PUNCT.has(ch)) {
      tokens.push({ kind: 'punct', text: ch, ...at });
      pos++;
      continue;
    }
    if (ch === '"' || ch === "'") {
      const { value, end } = readString(text, pos, at.line, at.column);
      const prev = tokens[tokens.length - 1];
      // "a" "b" is one string "ab", as in C (whitespace and comments may separate them).
      if (prev?.kind === 'string') prev.text += value;
      else tokens.push({ kind: 'string', text: value, ...at });
      pos = end;
      continue;
    }
    NUMBER.lastIndex = pos;
    const num = NUMBER.exec(text);
    if (num) {
      tokens.push({ kind: 'number', text: num[0], ...at });
      pos += num[0].length;
      continue;
    }
    IDENT.lastIndex = pos;
    const ident = IDENT.exec(text);
    if (ident) {
      tokens.push({ kind: 'ident', text: ident[0], ...at });
      pos += ident[0].length;
      continue;
    }
    throw new PbtxtSyntaxError(`unexpected character ${JSON.stringify(ch)}`, at.line, at.column);
  }
  tokens.push({ kind: 'eof', text: 'end of file', line, column: column(pos) });
  return tokens;
}

const SIMPLE_ESCAPES: Record<string, number> = {
  n: 0x0a, r: 0x0d, t: 0x09, a: 0x07, b: 0x08, f: 0x0c, v: 0x0b, '\\': 0x5c, "'": 0x27, '"': 0x22, '?': 0x3f,
};

const utf8 = new TextDecoder('utf-8', { fatal: true });
const encoder = new TextEncoder();

/**
 * Reads a quoted string starting at `start`. Escapes produce bytes (octal and hex escapes are
 * bytes in protobuf), so the value is assembled as bytes and decoded as UTF-8 at the end.
 */
function readString(text: string, start: number, line: number, col: number): { value: string; end: number } {
  const quoteChar = text[start];
  const bytes: number[] = [];
  let pos = start + 1;
  const fail = (message: string): never => { throw new PbtxtSyntaxError(message, line, col); };
  while (true) {
    if (pos >= text.length || text[pos] === '\n') fail('string literal is not closed on its line');
    const ch = text[pos];
    if (ch === quoteChar) { pos++; break; }
    if (ch !== '\\') {
      const cp = text.codePointAt(pos)!;
      const s = String.fromCodePoint(cp);
      bytes.push(...encoder.encode(s));
      pos += s.length;
      continue;
    }
    const esc = text[pos + 1];
    if (esc === undefined) fail('string literal ends in a lone backslash');
    if (SIMPLE_ESCAPES[esc] !== undefined) {
      bytes.push(SIMPLE_ESCAPES[esc]);
      pos += 2;
    } else if (/[0-7]/.test(esc)) {
      const m = /^[0-7]{1,3}/.exec(text.slice(pos + 1, pos + 4))!;
      const value = parseInt(m[0], 8);
      if (value > 0xff) fail(`octal escape \\${m[0]} is larger than one byte`);
      bytes.push(value);
      pos += 1 + m[0].length;
    } else if (esc === 'x' || esc === 'X') {
      const m = /^[0-9a-fA-F]{1,2}/.exec(text.slice(pos + 2, pos + 4));
      if (!m) fail('\\x must be followed by hex digits');
      bytes.push(parseInt(m![0], 16));
      pos += 2 + m![0].length;
    } else if (esc === 'u' || esc === 'U') {
      const len = esc === 'u' ? 4 : 8;
      const hex = text.slice(pos + 2, pos + 2 + len);
      if (!new RegExp(`^[0-9a-fA-F]{${len}}$`).test(hex)) fail(`\\${esc} must be followed by ${len} hex digits`);
      const cp = parseInt(hex, 16);
      if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) fail(`\\${esc}${hex} is not a Unicode scalar value`);
      bytes.push(...encoder.encode(String.fromCodePoint(cp)));
      pos += 2 + len;
    } else {
      fail(`unknown escape \\${esc}`);
    }
  }
  try {
    return { value: utf8.decode(new Uint8Array(bytes)), end: pos };
  } catch {
    return fail('string literal is not valid UTF-8 once its escapes are decoded');
  }
}
