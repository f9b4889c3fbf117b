// The web target's config schema.
import { z } from 'zod';

/**
 * Where the static bundle is served from. `local` and `aws` are deployed by deploy-model; the
 * others are hosts the user publishes the folder to, for which the build writes the header
 * configuration the host reads (`_headers`, `vercel.json`, an nginx `location` block).
 */
export const WEB_HOSTS = ['local', 'aws', 'netlify', 'cloudflare-pages', 'vercel', 'nginx', 'github-pages'] as const;
export type WebHost = (typeof WEB_HOSTS)[number];

/** Hosts on which response headers cannot be set, so the page cannot be cross-origin isolated. */
export const HOSTS_WITHOUT_HEADERS: readonly WebHost[] = ['github-pages'];

export const WEB_MODEL_FORMATS = ['onnx', 'ort'] as const;
export type WebModelFormat = (typeof WEB_MODEL_FORMATS)[number];

export const CLOUDFRONT_PRICE_CLASSES = ['PriceClass_100', 'PriceClass_200', 'PriceClass_All'] as const;

/** Above this size the model is slow to download and may not fit a mobile browser tab: a warning. */
export const DEFAULT_WARN_MODEL_MB = 100;

/**
 * Largest difference between the browser's outputs and onnxruntime-node's that the smoke test
 * accepts. onnxruntime-web's WASM backend is the same CPU kernels compiled to WebAssembly:
 * measured bit-identical on small models and within 5.4e-5 on PaddleOCR det at 640x640.
 */
export const DEFAULT_WEB_TOLERANCE = 1e-4;

export const webTargetSchema = z
  .object({
    type: z.literal('web'),
    /**
     * Where the bundle is served from: `local` (127.0.0.1, for development and the smoke test),
     * `aws` (a private S3 bucket behind CloudFront, deployed as a CDK stack), or a static host the
     * bundle is published to by hand, for which the build writes that host's header file.
     * @default 'local'
     */
    host: z.enum(WEB_HOSTS).default('local')
      .describe("Where the bundle is served from: 'local' (127.0.0.1), 'aws' (S3 + CloudFront), or a static host whose header file the build writes: 'netlify', 'cloudflare-pages', 'vercel', 'nginx', 'github-pages'. Default: 'local'."),
    /**
     * AWS region of the bucket and the stack (CloudFront itself is global). Required when `host` is `aws`.
     * @default - none
     */
    region: z.string().regex(/^[a-z]{2}(-gov)?-[a-z]+-\d$/, 'must be an AWS region such as eu-west-1').optional()
      .describe("AWS region of the bucket and the stack, e.g. eu-west-1; required when host is 'aws'. Default: none."),
    /**
     * Loopback port of the local static server (`host: 'local'`).
     * @default - a free port chosen at deploy time
     */
    port: z.number().int().min(1024).max(65535).optional()
      .describe("Loopback port of the local static server (host 'local'). Default: a free port chosen at deploy time."),
    /**
     * The model file the browser loads: `onnx` ships the model as it is; `ort` converts it with
     * onnxruntime-node to ONNX Runtime's own format (graph optimisations applied, no ONNX parser
     * needed at load), which onnxruntime-web loads too.
     * @default 'onnx'
     */
    modelFormat: z.enum(WEB_MODEL_FORMATS).default('onnx')
      .describe("The model file the browser loads: 'onnx' as it is, or 'ort' (ONNX Runtime format, converted by onnxruntime-node at build). Default: 'onnx'."),
    /**
     * WebAssembly threads. More than 1 needs a cross-origin isolated page (COOP `same-origin` and
     * COEP `require-corp`), so the host must be able to set those headers; the build writes them
     * for every host that can. Without isolation the browser runs one thread.
     * @default 1
     */
    threads: z.number().int().min(1).max(16).default(1)
      .describe('WebAssembly threads; more than 1 needs Cross-Origin-Opener-Policy and Cross-Origin-Embedder-Policy headers, which the build configures for the host. Default: 1.'),
    /**
     * Experimental: try WebGPU first. The page uses it only when the adapter exists, has
     * `shader-f16` where the model has float16 tensors, and the WebGPU outputs match the WASM
     * outputs on the smoke input; otherwise it runs on WASM and says why.
     * @default false
     */
    webgpu: z.boolean().default(false)
      .describe("Experimental: try WebGPU first; it is used only when shader-f16 is there for float16 models and its outputs match WASM's on the smoke input. Default: false."),
    /**
     * Model size (in MB, the model plus its external data) above which validate warns that the
     * model is slow to download and may not fit a browser tab.
     * @default 100
     */
    warnModelMb: z.number().positive().default(DEFAULT_WARN_MODEL_MB)
      .describe('Model size in MB above which validate warns that it may not fit a browser tab. Default: 100.'),
    /**
     * Largest absolute difference between the browser's outputs and onnxruntime-node's that the
     * smoke test accepts.
     * @default 1e-4
     */
    tolerance: z.number().min(0).default(DEFAULT_WEB_TOLERANCE)
      .describe("Largest absolute difference between the browser's outputs and onnxruntime-node's that the smoke test accepts. Default: 1e-4."),
    /**
     * CloudFront price class (`host: 'aws'`): which edge locations serve the site.
     * @default 'PriceClass_100'
     */
    priceClass: z.enum(CLOUDFRONT_PRICE_CLASSES).default('PriceClass_100')
      .describe("CloudFront price class (host 'aws'): PriceClass_100 (North America, Europe), PriceClass_200, PriceClass_All. Default: 'PriceClass_100'."),
  })
  .strict()
  .superRefine((t, ctx) => {
    if (t.host === 'aws' && !t.region) {
      ctx.addIssue({ code: 'custom', path: ['region'], message: "is required when host is 'aws' (the region of the bucket and the stack), e.g. region: 'eu-west-1'" });
    }
    if (t.host !== 'aws' && t.region !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['region'], message: `applies to host 'aws' only; remove it for host '${t.host}'` });
    }
    if (t.host !== 'local' && t.port !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['port'], message: `applies to host 'local' only; remove it for host '${t.host}'` });
    }
  })
  .describe('A static web bundle running the model in the browser with onnxruntime-web (WebAssembly, optionally WebGPU): the runtime files, the model, a typed client and an index page; served locally or from S3 + CloudFront.');

export type WebTargetInput = z.input<typeof webTargetSchema>;
export type WebTargetConfig = z.output<typeof webTargetSchema>;
