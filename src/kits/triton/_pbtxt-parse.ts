// Parses a Triton config.pbtxt back into the plain object the renderer takes.
import { DeployModelError } from '../../errors.js';
import { PbtxtSyntaxError, tokenize, type Token } from './_pbtxt-lexer.js';
import {
  ENUMS, INTEGER_RANGE, ROOT_MESSAGE, messageFields,
  type FieldSpec, type FieldType, type MessageName, type ScalarType,
} from './model-config-schema.js';
import type { TritonModelConfig } from './types.js';

export interface ParsePbtxtOptions {
  /** Named in error messages, e.g. the file the text came from. @default 'config.pbtxt' */
  source?: string;
}

/**
 * Parses a Triton config.pbtxt (protobuf text format) against the ModelConfig fields deploy-model
 * knows (`model-config-schema.ts`) into the same plain object `renderPbtxt` takes.
 *
 * Strict: an unknown field, a value of the wrong type, an integer out of range, an unknown enum
 * value, a singular field set twice or two members of one oneof all fail with
 * `TRITON_PBTXT_PARSE` and a `source:line:column` position. Unset fields stay absent (no proto
 * defaults are filled in), so `parsePbtxt(renderPbtxt(c))` deep-equals `c`.
 */
export function parsePbtxt(text: string, options: ParsePbtxtOptions = {}): TritonModelConfig {
  const source = options.source ?? 'config.pbtxt';
  try {
    const parser = new Parser(tokenize(text));
    const config = parser.message(ROOT_MESSAGE, 'eof');
    return config as unknown as TritonModelConfig;
  } catch (e) {
    if (e instanceof PbtxtSyntaxError) {
      throw new DeployModelError('TRITON_PBTXT_PARSE', `${source}:${e.line}:${e.column}: ${e.message}`,
        { cause: e, details: { source, line: e.line, column: e.column } });
    }
    throw e;
  }
}

type Obj = Record<string, unknown>;

class Parser {
  private pos = 0;

  constructor(private readonly tokens: Token[]) {}

  /** Fields of `message` until the closing token (`}`, `>` or end of file), which is consumed. */
  message(message: MessageName, close: '}' | '>' | 'eof'): Obj {
    const fields = messageFields(message);
    const out: Obj = {};
    const oneofs = new Map<string, string>();
    while (!this.atClose(close)) {
      const nameTok = this.next();
      if (nameTok.kind !== 'ident') this.fail(nameTok, `expected a ${message} field name, got ${describe(nameTok)}`);
      const field = fields.find((f) => f.name === nameTok.text);
      if (!field) {
        this.fail(nameTok, `unknown field '${nameTok.text}' in ${message}; known fields: ${fields.map((f) => f.name).join(', ')}`);
      }
      if (field.oneof) {
        const other = oneofs.get(field.oneof);
        if (other && other !== field.name) {
          this.fail(nameTok, `'${field.name}' and '${other}' are both set, but only one field of ${message}.${field.oneof} may be`);
        }
        oneofs.set(field.oneof, field.name);
      }
      this.field(field, nameTok, out);
      if (this.peek().text === ',' || this.peek().text === ';') this.pos++;
    }
    this.next();
    return out;
  }

  private field(field: FieldSpec, nameTok: Token, out: Obj): void {
    const { type } = field;
    const composite = type.kind === 'message' || type.kind === 'map';
    // Message values may omit the colon (`input [ ... ]`, `reshape { ... }`); scalars need it.
    if (this.peek().text === ':') this.pos++;
    else if (!composite) this.fail(this.peek(), `expected ':' after '${field.name}', got ${describe(this.peek())}`);

    const values: unknown[] = [];
    if (this.peek().text === '[') {
      const open = this.next();
      if (!field.repeated && type.kind !== 'map') this.fail(open, `field '${field.name}' is not repeated; write '${field.name}: value' without [ ]`);
      while (this.peek().text !== ']') {
        values.push(this.value(field));
        if (this.peek().text === ',') this.pos++;
        else if (this.peek().text !== ']') this.fail(this.peek(), `expected ',' or ']' in the list of '${field.name}', got ${describe(this.peek())}`);
      }
      this.next();
    } else {
      values.push(this.value(field));
    }

    if (type.kind === 'map') {
      const map = (out[field.name] ??= {}) as Obj;
      for (const entry of values as Array<{ key: string; value: unknown; at: Token }>) {
        if (Object.hasOwn(map, entry.key)) this.fail(entry.at, `key ${JSON.stringify(entry.key)} appears twice in '${field.name}'`);
        map[entry.key] = entry.value;
      }
    } else if (field.repeated) {
      ((out[field.name] ??= []) as unknown[]).push(...values);
    } else {
      if (Object.hasOwn(out, field.name)) this.fail(nameTok, `field '${field.name}' is set twice; it holds one value`);
      out[field.name] = values[0];
    }
  }

  /** One value of a field: a scalar token, or a `{...}` / `<...>` message. */
  private value(field: FieldSpec): unknown {
    const { type } = field;
    if (type.kind === 'message') return this.submessage(type.message, field.name);
    if (type.kind === 'map') return this.mapEntry(field, type);
    return this.scalar(type, field.name);
  }

  private submessage(message: MessageName, fieldName: string): Obj {
    const open = this.next();
    if (open.text !== '{' && open.text !== '<') this.fail(open, `expected '{' to open '${fieldName}' (${message}), got ${describe(open)}`);
    return this.message(message, open.text === '{' ? '}' : '>');
  }

  /** A map entry is a message with a `key` and a `value` field. */
  private mapEntry(field: FieldSpec, type: Extract<FieldType, { kind: 'map' }>): { key: string; value: unknown; at: Token } {
    const open = this.next();
    if (open.text !== '{' && open.text !== '<') this.fail(open, `expected '{' to open an entry of '${field.name}', got ${describe(open)}`);
    const close = open.text === '{' ? '}' : '>';
    let key: string | undefined;
    let value: unknown;
    while (!this.atClose(close)) {
      const nameTok = this.next();
      if (nameTok.text === 'key' && nameTok.kind === 'ident') {
        if (key !== undefined) this.fail(nameTok, `'key' is set twice in an entry of '${field.name}'`);
        this.expectColon('key');
        key = String(this.scalar({ kind: 'scalar', type: type.key }, `${field.name}.key`));
      } else if (nameTok.text === 'value' && nameTok.kind === 'ident') {
        if (value !== undefined) this.fail(nameTok, `'value' is set twice in an entry of '${field.name}'`);
        if (type.value.kind === 'message') {
          if (this.peek().text === ':') this.pos++;
          value = this.submessage(type.value.message, `${field.name}.value`);
        } else {
          this.expectColon('value');
          value = this.scalar(type.value, `${field.name}.value`);
        }
      } else {
        this.fail(nameTok, `unknown field ${describe(nameTok)} in an entry of '${field.name}'; known fields: key, value`);
      }
      if (this.peek().text === ',' || this.peek().text === ';') this.pos++;
    }
    this.next();
    if (key === undefined) this.fail(open, `an entry of '${field.name}' has no key`);
    if (value === undefined) value = type.value.kind === 'message' ? {} : defaultScalar(type.value.type);
    return { key: key!, value, at: open };
  }

  private scalar(type: FieldType, fieldName: string): unknown {
    const tok = this.next();
    if (type.kind === 'enum') {
      const values: readonly string[] = ENUMS[type.enum];
      if (tok.kind !== 'ident' || !values.includes(tok.text)) {
        this.fail(tok, `field '${fieldName}' takes a ${type.enum} value (${values.join(', ')}), got ${describe(tok)}`);
      }
      return tok.text;
    }
    if (type.kind !== 'scalar') throw new Error('unreachable');
    return this.scalarValue(type.type, tok, fieldName);
  }

  private scalarValue(type: ScalarType, tok: Token, fieldName: string): unknown {
    switch (type) {
      case 'string':
        if (tok.kind !== 'string') this.fail(tok, `field '${fieldName}' takes a quoted string, got ${describe(tok)}`);
        return tok.text;
      case 'bool':
        if (tok.kind === 'ident' && ['true', 'True', 't'].includes(tok.text)) return true;
        if (tok.kind === 'ident' && ['false', 'False', 'f'].includes(tok.text)) return false;
        if (tok.kind === 'number' && (tok.text === '1' || tok.text === '0')) return tok.text === '1';
        return this.fail(tok, `field '${fieldName}' takes true or false, got ${describe(tok)}`);
      default: {
        if (tok.kind !== 'number' || !/^-?(0[xX][0-9a-fA-F]+|\d+)$/.test(tok.text)) {
          this.fail(tok, `field '${fieldName}' takes an integer (${type}), got ${describe(tok)}`);
        }
        const negative = tok.text.startsWith('-');
        const digits = negative ? tok.text.slice(1) : tok.text;
        // A leading 0 means octal in protobuf text format, as in C.
        const magnitude = /^0[xX]/.test(digits) ? Number(digits) : /^0\d/.test(digits) ? parseInt(digits, 8) : Number(digits);
        const n = negative ? -magnitude : magnitude;
        const [min, max] = INTEGER_RANGE[type];
        if (!Number.isSafeInteger(n) || n < min || n > max) {
          this.fail(tok, `field '${fieldName}' (${type}) must be between ${min} and ${max}, got ${tok.text}`);
        }
        return n === 0 ? 0 : n;
      }
    }
  }

  private expectColon(after: string): void {
    const tok = this.next();
    if (tok.text !== ':' || tok.kind !== 'punct') this.fail(tok, `expected ':' after '${after}', got ${describe(tok)}`);
  }

  private atClose(close: '}' | '>' | 'eof'): boolean {
    const tok = this.peek();
    if (close === 'eof') {
      if (tok.kind === 'eof') return true;
      if (tok.kind === 'punct' && (tok.text === '}' || tok.text === '>')) this.fail(tok, `unexpected '${tok.text}': nothing to close`);
      return false;
    }
    if (tok.kind === 'eof') this.fail(tok, `unexpected end of file: missing '${close}'`);
    if (tok.kind === 'punct' && (tok.text === '}' || tok.text === '>') && tok.text !== close) this.fail(tok, `expected '${close}', got '${tok.text}'`);
    return tok.kind === 'punct' && tok.text === close;
  }

  private peek(): Token {
    return this.tokens[this.pos];
  }

  private next(): Token {
    const tok = this.tokens[this.pos];
    if (tok.kind !== 'eof') this.pos++;
    return tok;
  }

  private fail(tok: Token, message: string): never {
    throw new PbtxtSyntaxError(message, tok.line, tok.column);
  }
}

function defaultScalar(type: ScalarType): unknown {
  return type === 'string' ? '' : type === 'bool' ? false : 0;
}

function describe(tok: Token): string {
  switch (tok.kind) {
    case 'eof': return 'end of file';
    case 'string': return `string ${JSON.stringify(tok.text)}`;
    case 'number': return `number ${tok.text}`;
    case 'ident': return `'${tok.text}'`;
    default: return `'${tok.text}'`;
  }
}
