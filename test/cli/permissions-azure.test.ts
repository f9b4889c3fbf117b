/**
 * The Azure role `deploy-model permissions` prints covers every call the azure-ml driver makes.
 * GIVEN the Azure fake (which records each request); WHEN the target goes through the deploy cycle
 * (test/cli/_permissions.ts); THEN each Resource Manager request maps, by ARM's rule, to an action
 * the role's Actions allow within the workspace it is assigned on, and each Blob Storage request
 * to a data action its DataActions allow. A driver that starts calling a new API fails here until
 * src/permissions knows it.
 *
 * Not checked: polling an operation (the fake's `/operations/<id>`, which stands for the status
 * URL Azure returns for a call already checked) and scoring with an endpoint key (no RBAC).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { azureRoleAllows, type AzureRoleDefinition } from '../../src/permissions/index.js';
import { startAzureFake, type AzureFake } from '../emulators/azure/index.js';
import { documentOf, printedPermissions, runDeployCycle } from './_permissions.js';

const SUBSCRIPTION = '00000000-0000-0000-0000-000000000000';
const ENTRY = { type: 'azure-ml', subscriptionId: SUBSCRIPTION, resourceGroup: 'rg', workspace: 'mlws', instanceType: 'Standard_NC4as_T4_v3' };
const WORKSPACE = `/subscriptions/${SUBSCRIPTION}/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/mlws`;
const BLOBS = 'Microsoft.Storage/storageAccounts/blobServices/containers/blobs';

/**
 * The RBAC action of a Resource Manager request: the provider namespace, the resource types of the
 * path (every other segment after `providers/`), and the verb (GET read, PUT/PATCH write, DELETE
 * delete; a POST to a name after a resource is `<name>/action`).
 */
export function armAction(method: string, requestPath: string): string {
  const m = /\/providers\/([^/]+)\/(.+)$/i.exec(requestPath);
  if (!m) return `UNKNOWN(${method} ${requestPath})`;
  const segments = m[2]!.split('/');
  const types = segments.filter((_, i) => i % 2 === 0);
  if (method === 'POST' && segments.length % 2 === 1) return `${m[1]}/${types.join('/')}/action`;
  const verb = ({ GET: 'read', HEAD: 'read', PUT: 'write', PATCH: 'write', DELETE: 'delete', POST: 'action' } as Record<string, string>)[method] ?? `UNKNOWN(${method})`;
  return `${m[1]}/${types.join('/')}/${verb}`;
}

/** The data action of a Blob Storage request (path-style: `/<account>/<container>[/<blob>]`). */
function blobAction(method: string): string {
  return method === 'PUT' ? `${BLOBS}/write` : method === 'DELETE' ? `${BLOBS}/delete` : method === 'GET' || method === 'HEAD' ? `${BLOBS}/read` : `UNKNOWN(${method})`;
}

describe('azure-ml: the printed role covers what the driver calls', { timeout: 300_000 }, () => {
  let fake: AzureFake;
  let restore: () => void;
  let dir: string;

  beforeAll(async () => {
    fake = await startAzureFake();
    restore = fake.applyEnv();
    dir = await mkdtemp(path.join(os.tmpdir(), 'dm-permissions-azure-'));
  }, 120_000);

  afterAll(async () => {
    restore?.();
    await fake?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('every Resource Manager and Blob Storage request needs an action the printed role allows, in its scope', async () => {
    // WHEN
    await runDeployCycle(dir, ENTRY);
    const report = await printedPermissions(dir, ['--repo', 'acme/ocr']);

    // THEN
    expect(fake.internalErrors).toEqual([]);
    const role = documentOf<AzureRoleDefinition>(report, 'policy');
    const blobPrefix = new URL(fake.blobEndpoint).pathname;
    const arm = fake.requests.filter((r) => r.path.startsWith('/subscriptions/'));
    const blob = fake.requests.filter((r) => r.path.startsWith(`${blobPrefix}/`));
    const others = fake.requests.filter((r) => !arm.includes(r) && !blob.includes(r) && !r.path.startsWith('/operations/') && !r.path.startsWith('/endpoints/'));
    expect(others, 'requests this test does not map').toEqual([]);

    const armActions = arm.map((r) => ({ request: `${r.method} ${r.path}`, action: armAction(r.method, r.path), inWorkspace: r.path.toLowerCase().startsWith(WORKSPACE.toLowerCase()) }));
    expect(armActions.filter((a) => !a.inWorkspace), 'requests outside the workspace the role is assigned on').toEqual([]);
    expect(armActions.filter((a) => !azureRoleAllows(role, a.action)), 'Resource Manager actions the role does not allow').toEqual([]);
    const dataActions = blob.map((r) => ({ request: `${r.method} ${r.path}`, action: blobAction(r.method) }));
    expect(dataActions.filter((a) => !azureRoleAllows(role, a.action, { data: true })), 'Blob Storage data actions the role does not allow').toEqual([]);

    // Least: the cycle uses every action the role grants.
    const used = new Set([...armActions, ...dataActions].map((a) => a.action.toLowerCase()));
    expect([...role.Actions, ...(role.DataActions ?? [])].filter((a) => !used.has(a.toLowerCase())), 'actions no request needed').toEqual([]);
    expect(role.AssignableScopes).toEqual([`/subscriptions/${SUBSCRIPTION}/resourceGroups/rg`]);
  });
});
