/** Zip or container image for the aws-lambda target: the shared kit's choice (src/kits/aws/lambda-package-choice.ts). */
export * from '../../kits/aws/lambda-package-choice.js';
