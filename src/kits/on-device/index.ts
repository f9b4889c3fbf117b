// Shared by the on-device targets (web, react-native): the generated client's common parts, the .ort conversion, problems.
export { CLIENT_CORE } from './client-core.js';
export { convertToOrt } from './convert-to-ort.js';
export { assertNoErrors, configProblemsOf, type DeviceProblem } from './device-problem.js';
export { clientTypes, renderSignatureTypes, type ClientTensorType, type ClientTypes } from './render-signature-types.js';
