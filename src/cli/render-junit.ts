// Renders a deploy report as JUnit XML for CI.
import type { DeployReport } from '../toolkit/toolkit.js';

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** The report as JUnit XML, one test suite per target and one test case per smoke check, for CI. */
export function renderJunit(report: DeployReport, suiteName = 'deploy-model'): string {
  const suites = report.targets.map((t) => {
    const cases = t.checks.map((c) => {
      const failure = c.passed ? '' : `<failure message="${esc(c.message)}">${esc(c.message)}</failure>`;
      // Golden outputs checks carry what was measured, passed or not.
      const measured = c.maxAbsError === undefined ? '' : `<system-out>${esc(`max abs error ${c.maxAbsError ?? 'not finite'}, max rel error ${c.maxRelError ?? 'not finite'}${c.tolerance ? `, tolerance abs ${c.tolerance.abs} rel ${c.tolerance.rel}` : ''}`)}</system-out>`;
      return `    <testcase classname="${esc(`${suiteName}.${t.name}`)}" name="${esc(c.name)}">${failure}${measured}</testcase>`;
    });
    if (t.error) {
      cases.push(`    <testcase classname="${esc(`${suiteName}.${t.name}`)}" name="deploy"><error type="${esc(t.error.code)}" message="${esc(t.error.message)}">${esc(t.error.message)}</error></testcase>`);
    }
    const failures = t.checks.filter((c) => !c.passed).length;
    const time = (t.durationMs / 1000).toFixed(3);
    return `  <testsuite name="${esc(`${t.name} (${t.type})`)}" tests="${cases.length}" failures="${failures}" errors="${t.error ? 1 : 0}" time="${time}">\n${cases.join('\n')}\n  </testsuite>`;
  });
  const tests = report.targets.reduce((n, t) => n + t.checks.length + (t.error ? 1 : 0), 0);
  const failures = report.targets.reduce((n, t) => n + t.checks.filter((c) => !c.passed).length, 0);
  const errors = report.targets.filter((t) => t.error).length;
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="${esc(suiteName)}" tests="${tests}" failures="${failures}" errors="${errors}">\n${suites.join('\n')}\n</testsuites>\n`;
}
