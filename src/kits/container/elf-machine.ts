/** The architecture of native files, from their ELF header (`e_machine`), against the platform an image is built for. */
import { DeployModelError } from '../../errors.js';
import type { Platform } from './builders.js';

/** e_machine values (the ELF specification's EM_* constants) we name; others are shown as numbers. */
const MACHINES: Readonly<Record<number, string>> = { 3: 'x86', 40: 'arm', 62: 'x86-64', 183: 'aarch64', 243: 'riscv' };

/** The e_machine each platform's native files must carry: EM_X86_64 (62), EM_AARCH64 (183). */
export const PLATFORM_MACHINE: Readonly<Record<Platform, number>> = { 'linux/amd64': 62, 'linux/arm64': 183 };

/** The ELF e_machine of a file's first bytes, or undefined when they are not an ELF header. */
export function elfMachine(head: Uint8Array): number | undefined {
  if (head.length < 20 || head[0] !== 0x7f || head[1] !== 0x45 || head[2] !== 0x4c || head[3] !== 0x46) return undefined;
  // EI_DATA (byte 5): 1 little-endian, 2 big-endian; e_machine is the half-word at offset 18.
  return head[5] === 2 ? (head[18]! << 8) | head[19]! : head[18]! | (head[19]! << 8);
}

export function machineName(machine: number): string {
  return MACHINES[machine] ?? `e_machine ${machine}`;
}

/** Native files by name: onnxruntime's N-API addon and shared libraries, and the Node binary. */
export function isNativeFileName(path: string): boolean {
  return /\.node$|\.so(\.\d+)*$/.test(path) || /(^|\/)bin\/node$/.test(path);
}

export interface NativeFile {
  path: string;
  machine: number;
}

export interface ElfReport {
  platform: Platform;
  /** Every native file found, with its machine. */
  files: NativeFile[];
  /** Those whose machine is not the platform's. */
  wrong: NativeFile[];
}

/** Compares the machines of `files` with the platform's. */
export function elfReport(platform: Platform, files: readonly NativeFile[]): ElfReport {
  const want = PLATFORM_MACHINE[platform];
  return { platform, files: [...files], wrong: files.filter((f) => f.machine !== want) };
}

/** Throws CONTAINER_WRONG_ARCHITECTURE naming each file built for another machine; `where` says what was read. */
export function assertElfReport(report: ElfReport, where: string): void {
  if (report.wrong.length === 0) return;
  const want = machineName(PLATFORM_MACHINE[report.platform]);
  throw new DeployModelError('CONTAINER_WRONG_ARCHITECTURE',
    `${where} is for ${report.platform}, but ${report.wrong.map((f) => `${f.path} is ${machineName(f.machine)}`).join(', ')}, not ${want}: it would not load there. `
    + 'Check that onnxruntime-node ships binaries for that architecture (reinstall it), and that the base image is published for the platform.',
    { details: { platform: report.platform, wrong: report.wrong } });
}
