/** The image builders deploy-model knows, in the order it tries them. */
export const CONTAINER_BUILDERS = ['docker', 'podman', 'buildah'] as const;
export type ContainerBuilderName = (typeof CONTAINER_BUILDERS)[number];
