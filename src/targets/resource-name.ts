/** Targets take the naming rule from the kits, where infra and the kits use it too. */
export { resourceName } from '../kits/resource-name.js';
