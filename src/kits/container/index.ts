// Shared by every target that builds an image (container, aws-lambda with package 'image'): builders, commands, the ELF check.
export { CONTAINER_BUILDERS, type ContainerBuilderName } from './builder-names.js';
export * from './builders.js';
export * from './elf-machine.js';
export { exec, runOrThrow, tail, type ExecOptions, type ExecResult } from './exec.js';
