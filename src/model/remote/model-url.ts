/** Parses `model.path` when it names an object in S3, Cloud Storage or Azure Blob Storage. */
import { DeployModelError } from '../../errors.js';

/** Where a model lives in object storage. `key` is the object's name in its bucket or container. */
export type ModelUrl =
  | { readonly kind: 's3'; readonly url: string; readonly bucket: string; readonly key: string }
  | { readonly kind: 'gs'; readonly url: string; readonly bucket: string; readonly key: string }
  | { readonly kind: 'azure-blob'; readonly url: string; readonly account: string; readonly host: string; readonly container: string; readonly key: string };

const SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;
const S3 = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])\/(.+)$/;
const GS = /^gs:\/\/([a-z0-9][a-z0-9._-]{1,220}[a-z0-9])\/(.+)$/;
// https://<account>.blob.core.windows.net (or a sovereign cloud's suffix)/<container>/<blob>
const BLOB = /^https:\/\/([a-z0-9]{3,24})\.(blob\.core\.(?:windows\.net|chinacloudapi\.cn|usgovcloudapi\.net))\/([a-z0-9][a-z0-9-]{1,61}[a-z0-9])\/(.+)$/;

const FORMS = 's3://bucket/key.onnx, gs://bucket/object.onnx or https://<account>.blob.core.windows.net/<container>/<blob>.onnx';

/** Whether `model.path` is a URL (any `scheme://`) rather than a file path. */
export function isModelUrl(path: string): boolean {
  return SCHEME.test(path);
}

/** Splits a key into its folder (with a trailing `/`, or empty) and its file name. */
export function keyFolder(key: string): string {
  const slash = key.lastIndexOf('/');
  return slash < 0 ? '' : key.slice(0, slash + 1);
}

/**
 * The object a URL names; throws MODEL_URL_INVALID for a scheme we cannot read, or a URL that
 * names a bucket or a folder rather than an object.
 */
export function parseModelUrl(url: string): ModelUrl {
  const invalid = (rule: string) => new DeployModelError('MODEL_URL_INVALID',
    `model.path '${url}' ${rule}. Use ${FORMS}, or a path to a local .onnx file.`, { kind: 'usage', details: { url } });
  let m = S3.exec(url);
  if (m) {
    if (m[2]!.endsWith('/')) throw invalid('names a folder, not an object');
    return { kind: 's3', url, bucket: m[1]!, key: m[2]! };
  }
  m = GS.exec(url);
  if (m) {
    if (m[2]!.endsWith('/')) throw invalid('names a folder, not an object');
    return { kind: 'gs', url, bucket: m[1]!, key: m[2]! };
  }
  m = BLOB.exec(url);
  if (m) {
    if (m[4]!.endsWith('/')) throw invalid('names a folder, not a blob');
    return { kind: 'azure-blob', url, account: m[1]!, host: `${m[1]}.${m[2]}`, container: m[3]!, key: decodeURIComponent(m[4]!) };
  }
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase();
  if (scheme === 's3' || scheme === 'gs') throw invalid(`is not a valid ${scheme}:// URL (a bucket name of 3-63 lowercase letters, digits, dots or dashes, then /, then the object's key)`);
  if (scheme === 'https' && /\.blob\./.test(url)) throw invalid('is not an Azure Blob URL of the form https://<account>.blob.core.windows.net/<container>/<blob> (account 3-24 lowercase letters and digits, container 3-63 lowercase letters, digits and dashes)');
  throw invalid(`uses ${scheme}://, which deploy-model cannot download from (it reads s3://, gs:// and Azure Blob URLs)`);
}
