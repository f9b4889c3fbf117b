/** The image builders (docker, podman, buildah): the shared kit's, kept under their old path for this target's files. */
export * from '../../kits/container/builders.js';
