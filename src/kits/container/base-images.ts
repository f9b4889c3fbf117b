/** The Node.js base images the images deploy-model builds start FROM, when the config names none. */

/**
 * The base of an aws-lambda container image: Node 22 as on Lambda's `nodejs22.x`. Lambda's own
 * base image (`public.ecr.aws/lambda/nodejs:22`) would do as well; the function image carries its
 * own Runtime API client, so any image with `node` on PATH works.
 */
export const LAMBDA_IMAGE_BASE = 'docker.io/library/node:22-bookworm-slim';
