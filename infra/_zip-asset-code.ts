/** Lambda code from a zip built before synth, keyed by its sha256 and staged into the assembly by a hard link instead of a copy. */
import { createHash } from 'node:crypto';
import { existsSync, linkSync, mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { AssetHashType, Stage } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';
import { sha256FileSync } from '../src/bundling/hash.js';

// aws-cdk-lib's context key that turns staging off (cx-api DISABLE_ASSET_STAGING_CONTEXT).
const DISABLE_ASSET_STAGING = 'aws:cdk:disable-asset-staging';

/**
 * sha256 per file, by path, inode, size and modification and change times (which a write always
 * moves, and a program cannot set back): a synth, diff and deploy in one process hash each zip once.
 */
const hashes = new Map<string, string>();

function zipSha256(file: string): string {
  const s = statSync(file);
  const key = `${path.resolve(file)}\0${s.ino}\0${s.size}\0${s.mtimeMs}\0${s.ctimeMs}`;
  let sha = hashes.get(key);
  if (!sha) {
    sha = sha256FileSync(file);
    hashes.set(key, sha);
  }
  return sha;
}

/**
 * `lambda.Code.fromAsset(zip)` with the zip's own sha256 as the asset hash (not CDK's path-keyed
 * cache: a rebuilt zip at the same path in the same process must get a new asset key, or
 * CloudFormation never sees the change).
 *
 * CDK stages a file asset by copying it into the cloud assembly unless the staged file is already
 * there (core/lib/asset-staging.ts, `stageAsset`). For the onnxruntime layer (17 MB) that copy was
 * the largest single cost of a synth, so the zip is hard-linked to the name CDK gives it first
 * (`asset.<sha256 of the custom hash>.zip`, `calculateHash` for AssetHashType.CUSTOM); CDK then
 * finds it and copies nothing (a hash salt in the context does not enter a custom hash). deploy-model
 * writes its zips beside their final path and renames them into place, so a rebuild never changes a
 * linked file. Where a link cannot be made (another file system), CDK copies as before; with
 * staging off, the assembly names the zip itself.
 */
export function zipAssetCode(scope: Construct, file: string): lambda.AssetCode {
  const sha = zipSha256(file);
  if (path.extname(file).toLowerCase() === '.zip') prestage(scope, file, sha);
  return lambda.Code.fromAsset(file, { assetHash: sha, assetHashType: AssetHashType.CUSTOM });
}

function prestage(scope: Construct, file: string, customHash: string): void {
  if (scope.node.tryGetContext(DISABLE_ASSET_STAGING)) return;
  const outdir = Stage.of(scope)?.assetOutdir;
  if (!outdir) return;
  const staged = path.join(outdir, `asset.${createHash('sha256').update(customHash).digest('hex')}.zip`);
  if (existsSync(staged)) return;
  try {
    mkdirSync(outdir, { recursive: true });
    linkSync(file, staged);
  } catch {
    // CDK copies it.
  }
}
