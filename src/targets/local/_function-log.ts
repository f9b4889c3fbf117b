/**
 * How the local daemon writes its functions' output to its log: each line stamped with the time
 * it was written and the version that wrote it (`<ISO time> [<version>] <line>`), so `logs` can
 * filter by time and say which version spoke, as CloudWatch does with its streams.
 */
export function stampedFunctionLog(write: (line: string) => void, version: string): (line: string) => void {
  return (line) => write(`${new Date().toISOString()} [${version}] ${line}`);
}
