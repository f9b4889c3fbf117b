// The rule that each source file opens with a one-line comment saying what it is for (see eslint.config.js).

/**
 * The header comment's text when `text` (a file's source) opens with one, after an optional
 * `#!` line: a `//` line, or the first line of a `/*` block (of a Python docstring or `#` line
 * for Python files). Undefined when the file opens with anything else.
 */
export function fileHeader(text) {
  const lines = text.replace(/^\uFEFF/, '').split('\n');
  const at = lines[0]?.startsWith('#!') ? 1 : 0;
  const match = /^(\/\/+|\/\*+|#|""")\s*(.*?)\s*(?:\*\/|""")?\s*$/.exec(lines[at] ?? '');
  if (!match) return undefined;
  // A block that opens on a line of its own (`/**`) says it on the next line.
  if (match[2] === '' && match[1] !== '//' && match[1] !== '#') return (lines[at + 1] ?? '').replace(/^\s*\*?\s*/, '').trim();
  return match[2];
}

/** A header says something: three words at least, not a lint directive. */
export function headerProblem(text) {
  const header = fileHeader(text);
  if (header === undefined) return 'the file must open with a one-line comment saying what it is for';
  if (/^(eslint|@ts-|prettier|istanbul|c8)/.test(header)) return `the file opens with a tool directive (${header}); put a line saying what the file is for above it`;
  if (header.split(/\s+/).filter(Boolean).length < 3) return `the file's opening comment ("${header}") is too short to say what the file is for`;
  return undefined;
}

export default {
  rules: {
    'file-header': {
      meta: { type: 'suggestion', schema: [], docs: { description: 'each source file opens with a one-line comment saying what it is for' } },
      create(context) {
        return {
          Program(node) {
            const problem = headerProblem(context.sourceCode.text);
            if (problem) context.report({ node, loc: { line: 1, column: 0 }, message: problem });
          },
        };
      },
    },
  },
};
