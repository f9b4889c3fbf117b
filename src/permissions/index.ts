// `deploy-model permissions`: the least permissions a CI identity needs per target, and how to grant them.
export { targetPermissions, permissionDocument, PERMISSION_TARGET_TYPES, REPORT_FORMATS } from './target-permissions.js';
export { resolveCiIdentity, resolveCloudIds, deploySubject, pullRequestSubject, oidcIssuer, GITHUB_ISSUER, PLACEHOLDERS, type CiIdentityInput } from './ci-identity.js';
export { awsPolicyAllows, azureRoleAllows, gcpRoleAllows, wildcardMatches, type PolicyDecision } from './policy-allows.js';
export { awsPartition, awsTrustPolicy, bootstrapRoles, ciRoleName, type BootstrapRoles } from './aws-permissions.js';
export { wifProvider, GCP_ROLE_IDS, WIF_POOL, CI_SERVICE_ACCOUNT } from './gcp-vertex-permissions.js';
export { azureRoleName } from './azure-ml-permissions.js';
export { registryHost } from './local-permissions.js';
export {
  CI_PROVIDERS, type AwsPolicyDocument, type AwsPolicyStatement, type AzureRoleDefinition, type CiIdentity, type CiProvider, type CloudIds,
  type PermissionAction, type PermissionDocument, type PermissionsOptions, type TargetPermissions,
} from './types.js';
