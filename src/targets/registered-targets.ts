/**
 * The registered target modules, in the order the CLI lists them. It is a module of its own so
 * that a test can register one more with `vi.mock` (test/targets/throwaway.test.ts does).
 */
import { awsLambdaTarget } from './aws-lambda/index.js';
import { awsSageMakerTarget } from './aws-sagemaker/index.js';
import { azureMlTarget } from './azure-ml/index.js';
import { containerTarget } from './container/index.js';
import { gcpVertexTarget } from './gcp-vertex/index.js';
import { localTarget } from './local/index.js';
import { reactNativeTarget } from './react-native/index.js';
import { webTarget } from './web/index.js';

export const TARGETS = [localTarget, awsLambdaTarget, awsSageMakerTarget, gcpVertexTarget, azureMlTarget, containerTarget, webTarget, reactNativeTarget] as const;
