/** Runs builder commands without a shell: the shared kit's, kept under its old path for this target's files. */
export * from '../../kits/container/exec.js';
