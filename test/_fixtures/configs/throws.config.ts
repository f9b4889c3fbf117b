const region = process.env.DEPLOY_MODEL_TEST_UNSET_VARIABLE;
if (!region) throw new Error('REGION is not set');
export default { name: 'cls' };
