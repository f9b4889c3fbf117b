/** The model archive's sha256, with an error that says how to build a missing one. */
import { DeployModelError } from '../../errors.js';
import { sha256FileSync } from '../../bundling/hash.js';

/** sha256 (hex) of the model archive, with an error that says how to build it when it is missing. */
export function archiveSha256(file: string): string {
  try {
    return sha256FileSync(file);
  } catch (e) {
    throw new DeployModelError('SAGEMAKER_MODEL_ARCHIVE', `Cannot read the model archive ${file}: ${(e as Error).message}. Build it first (deploy-model build, or buildTritonModelArchive from deploy-model/cdk), or give the endpoint the model instead of an archive.`, { cause: e, details: { file } });
  }
}
