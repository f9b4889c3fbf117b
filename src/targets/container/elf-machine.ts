/** The ELF architecture check of native files: the shared kit's, kept under its old path for this target's files. */
export * from '../../kits/container/elf-machine.js';
