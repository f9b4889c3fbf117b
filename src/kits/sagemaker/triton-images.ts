/** SageMaker's Triton images per release and region, and the ECR image URIs. */
import { DeployModelError } from '../../errors.js';

/**
 * SageMaker's Triton images (`sagemaker-tritonserver:<version>-py3`), built by AWS on NVIDIA's
 * release with SageMaker's `serve` entry point, live in AWS-owned ECR accounts, one per region.
 * This is the one table of them, per Triton release and region, taken from the SageMaker Python
 * SDK's `sagemaker-tritonserver.json` (aws/sagemaker-python-sdk, master:
 * `sagemaker-core/src/sagemaker/core/image_uri_config/sagemaker-tritonserver.json`; master-v2 and
 * SDK v2: `src/sagemaker/image_uri_config/sagemaker-tritonserver.json`). AWS publishes only some
 * releases; to add one, copy its `registries` from that file. `image` in the target config (or the
 * construct's `image` prop) overrides the table for a release or region it does not list.
 */
export const SAGEMAKER_TRITON_REPOSITORY = 'sagemaker-tritonserver';

/** The Deep Learning Containers account of most regions. */
const DLC = '763104351884';

/** Regions and accounts of the 23.12 to 24.09 releases. */
const REGISTRIES_2024: Readonly<Record<string, string>> = {
  'af-south-1': '626614931356',
  'ap-east-1': '871362719292',
  'ap-northeast-1': DLC,
  'ap-northeast-2': DLC,
  'ap-northeast-3': '364406365360',
  'ap-south-1': DLC,
  'ap-southeast-1': DLC,
  'ap-southeast-2': DLC,
  'ap-southeast-3': '907027046896',
  'ca-central-1': DLC,
  'ca-west-1': '204538143572',
  'cn-north-1': '727897471807',
  'cn-northwest-1': '727897471807',
  'eu-central-1': DLC,
  'eu-north-1': DLC,
  'eu-south-1': '692866216735',
  'eu-west-1': DLC,
  'eu-west-2': DLC,
  'eu-west-3': DLC,
  'il-central-1': '780543022126',
  'me-south-1': '217643126080',
  'sa-east-1': DLC,
  'us-east-1': DLC,
  'us-east-2': DLC,
  'us-west-1': DLC,
  'us-west-2': DLC,
};

/** The regions 2025 releases added, with their accounts. */
const REGIONS_ADDED_2025: Readonly<Record<string, string>> = {
  'ap-east-2': '975050140332',
  'ap-south-2': '772153158452',
  'ap-southeast-4': '457447274322',
  'ap-southeast-5': '550225433462',
  'ap-southeast-7': '590183813437',
  'eu-central-2': '380420809688',
  'eu-south-2': '503227376785',
  'me-central-1': '914824155844',
  'mx-central-1': '637423239942',
};

/** 25.04: every 2024 region (China included) and the 2025 additions. */
const REGISTRIES_25_04: Readonly<Record<string, string>> = { ...REGISTRIES_2024, ...REGIONS_ADDED_2025 };

/** 25.09 and 26.05 add ap-southeast-6 and are not published in the China regions. */
const REGISTRIES_25_09: Readonly<Record<string, string>> = {
  ...Object.fromEntries(Object.entries(REGISTRIES_25_04).filter(([region]) => !region.startsWith('cn-'))),
  'ap-southeast-6': '633930458069',
};

/** Triton release → region → the ECR account that holds its image there. Newest first. */
export const SAGEMAKER_TRITON_IMAGES: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  '26.05': REGISTRIES_25_09,
  '25.09': REGISTRIES_25_09,
  '25.04': REGISTRIES_25_04,
  '24.09': REGISTRIES_2024,
  '24.05': REGISTRIES_2024,
  '24.03': REGISTRIES_2024,
  '24.01': REGISTRIES_2024,
  '23.12': REGISTRIES_2024,
};

/**
 * The Triton release SageMaker targets serve with unless `tritonVersion` says otherwise. It stays
 * at 25.09 while 26.05 is in the table: a newer release may need a newer NVIDIA driver (the
 * instances' AMI), may drop older GPUs and rebuilds every cached engine, so moving it is a change
 * of its own, checked on a GPU first. Other GPU targets default to `DEFAULT_TRITON_VERSION`
 * (NVIDIA's own images, published every month); AWS builds only some releases for SageMaker.
 */
export const DEFAULT_SAGEMAKER_TRITON_VERSION = '25.09';

/** `amazonaws.com`, or `amazonaws.com.cn` in the China regions. */
export function awsDomain(region: string): string {
  return region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com';
}

/** Why the table has no image for this release and region, or undefined when it has one. */
export function sageMakerTritonImageProblem(region: string, tritonVersion: string): string | undefined {
  const registries = SAGEMAKER_TRITON_IMAGES[tritonVersion];
  if (!registries) {
    return `SageMaker has no Triton image for tritonVersion '${tritonVersion}' that deploy-model knows of (it knows ${Object.keys(SAGEMAKER_TRITON_IMAGES).join(', ')}); set tritonVersion to one of those, or set image to a Triton image for SageMaker in your ECR`;
  }
  if (!registries[region]) {
    const other = Object.keys(SAGEMAKER_TRITON_IMAGES).filter((v) => SAGEMAKER_TRITON_IMAGES[v]![region]);
    return `SageMaker's Triton ${tritonVersion} image is not published in ${region}${other.length ? ` (releases published there: ${other.join(', ')})` : ''}; pick another tritonVersion or region, or set image to a copy in your ECR`;
  }
  return undefined;
}

/**
 * `<account>.dkr.ecr.<region>.amazonaws.com/sagemaker-tritonserver:<version>-py3` for a region
 * and release of the table; throws SAGEMAKER_TRITON_IMAGE_UNKNOWN otherwise.
 */
export function sageMakerTritonImage(region: string, tritonVersion: string): string {
  const problem = sageMakerTritonImageProblem(region, tritonVersion);
  if (problem) {
    throw new DeployModelError('SAGEMAKER_TRITON_IMAGE_UNKNOWN', `${problem}.`, { details: { region, tritonVersion } });
  }
  const account = SAGEMAKER_TRITON_IMAGES[tritonVersion]![region]!;
  return `${account}.dkr.ecr.${region}.${awsDomain(region)}/${SAGEMAKER_TRITON_REPOSITORY}:${tritonVersion}-py3`;
}

/** An ECR image URI: `<account>.dkr.ecr.<region>.amazonaws.com[.cn]/<repository>(:<tag>|@sha256:<digest>)`. */
export const ECR_IMAGE = /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?\/([a-z0-9][a-z0-9._/-]*)(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}|@sha256:[a-f0-9]{64})$/;

/** The account, region and repository of an ECR image URI, or undefined when it is not one. */
export function parseEcrImage(image: string): { account: string; region: string; repository: string } | undefined {
  const m = ECR_IMAGE.exec(image);
  return m ? { account: m[1]!, region: m[2]!, repository: m[4]! } : undefined;
}
