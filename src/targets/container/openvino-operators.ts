/**
 * The ONNX operators OpenVINO's ONNX frontend converts, so that a model OVMS cannot load is refused
 * at validate instead of at the pod's start.
 *
 * Restated from openvinotoolkit/openvino `src/frontends/onnx/docs/supported_ops.md` (the revision
 * read: commit 0ae60f0ffec990b581cf29cae47563090e5deca0, which lists the opset 23 operators of the
 * 2025-2026 releases), generated upstream by `check_supported_ops.py` from the frontend's operator
 * registrations. Each entry is the lowest opset version the frontend registers for the operator;
 * the frontend picks the highest registered version at or below the model's opset
 * (`OperatorsBridge::get_operator_set`, `find`), so a model whose opset is below that lowest version
 * fails with `UnsupportedVersion`. Operators the document lists with no supported version, or does
 * not list, are not converted ("OpenVINO does not support the operations"). The OVMS release the
 * engine pins (OVMS_VERSION) carries the OpenVINO of the same number.
 */

/** Default ONNX domain (`ai.onnx`): operator to its lowest supported opset version. */
const AI_ONNX: Readonly<Record<string, number>> = {
  ATen: 1, Abs: 1, Acos: 7, Acosh: 9, Add: 1, Affine: 1, AffineGrid: 20, And: 1, ArgMax: 1, ArgMin: 1, Asin: 7, Asinh: 9,
  Atan: 7, Atanh: 9, Attention: 23, AveragePool: 1, BatchNormalization: 1, BitShift: 11, BitwiseAnd: 18, BitwiseNot: 18,
  BitwiseOr: 18, BitwiseXor: 18, BlackmanWindow: 17, Cast: 1, CastLike: 15, Ceil: 1, Celu: 12, CenterCropPad: 18, Clip: 1,
  Col2Im: 18, Compress: 9, Concat: 1, ConcatFromSequence: 11, Constant: 1, ConstantFill: 1, ConstantOfShape: 9, Conv: 1,
  ConvInteger: 10, ConvTranspose: 1, Cos: 7, Cosh: 9, Crop: 1, CumSum: 11, DFT: 17, DepthToSpace: 1, DequantizeLinear: 10,
  Div: 1, Dropout: 1, DynamicQuantizeLinear: 11, Einsum: 12, Elu: 1, Equal: 1, Erf: 9, Exp: 1, Expand: 8, EyeLike: 9,
  Flatten: 1, Floor: 1, GRU: 1, Gather: 1, GatherElements: 11, GatherND: 11, Gelu: 20, Gemm: 1, GlobalAveragePool: 1,
  GlobalLpPool: 1, GlobalMaxPool: 1, Greater: 1, GreaterOrEqual: 12, GridSample: 16, GroupNormalization: 18,
  HammingWindow: 17, HannWindow: 17, HardSigmoid: 1, HardSwish: 14, Hardmax: 1, Identity: 1, If: 1, ImageScaler: 1,
  InstanceNormalization: 1, IsFinite: 1, IsInf: 10, IsNaN: 9, LRN: 1, LSTM: 1, LayerNormalization: 17, LeakyRelu: 1,
  Less: 1, LessOrEqual: 12, Log: 1, LogSoftmax: 1, Loop: 1, LpNormalization: 1, MatMul: 1, MatMulInteger: 10, Max: 1,
  MaxPool: 1, MaxRoiPool: 1, Mean: 1, MeanVarianceNormalization: 1, Min: 1, Mish: 18, Mod: 10, Mul: 1, Multinomial: 7,
  Neg: 1, NegativeLogLikelihoodLoss: 12, NonMaxSuppression: 10, NonZero: 9, Not: 1, OneHot: 9, Or: 1, PRelu: 1, Pad: 1,
  Pow: 1, QLinearConv: 10, QLinearMatMul: 10, QuantizeLinear: 10, RMSNormalization: 23, RNN: 1, RandomNormal: 1,
  RandomNormalLike: 1, RandomUniform: 1, RandomUniformLike: 1, Range: 11, Reciprocal: 1, ReduceL1: 1, ReduceL2: 1,
  ReduceLogSum: 1, ReduceLogSumExp: 1, ReduceMax: 1, ReduceMean: 1, ReduceMin: 1, ReduceProd: 1, ReduceSum: 1,
  ReduceSumSquare: 1, Relu: 1, Reshape: 1, Resize: 10, ReverseSequence: 10, RoiAlign: 10, RotaryEmbedding: 23, Round: 11,
  STFT: 17, Scan: 8, Scatter: 9, ScatterElements: 11, ScatterND: 11, Selu: 1, SequenceAt: 11, SequenceConstruct: 11,
  SequenceEmpty: 11, SequenceErase: 11, SequenceInsert: 11, SequenceLength: 11, Shape: 1, Shrink: 9, Sigmoid: 1, Sign: 9,
  SimplifiedLayerNormalization: 1, Sin: 7, Sinh: 9, Size: 1, Slice: 1, Softmax: 1, SoftmaxCrossEntropyLoss: 12,
  Softplus: 1, Softsign: 1, SpaceToDepth: 1, Split: 1, SplitToSequence: 11, Sqrt: 1, Squeeze: 1, Sub: 1, Sum: 1, Tan: 7,
  Tanh: 1, ThresholdedRelu: 10, Tile: 1, TopK: 1, Transpose: 1, Trilu: 14, Unique: 11, Unsqueeze: 1, Upsample: 1,
  Where: 9, Xor: 1,
};

/** Operators of the default domain the document lists as defined by ONNX but not supported. */
export const OPENVINO_UNSUPPORTED_AI_ONNX: readonly string[] = [
  'Bernoulli', 'DeformConv', 'Det', 'ImageDecoder', 'LpPool', 'MaxUnpool', 'MelWeightMatrix', 'Optional', 'OptionalGetElement',
  'OptionalHasElement', 'RegexFullMatch', 'SequenceMap', 'StringConcat', 'StringNormalizer', 'StringSplit', 'TfIdfVectorizer',
];

/** Sequence operators the document marks "Supported only in certain patterns". */
const PATTERN_ONLY = new Set(['ConcatFromSequence', 'SequenceAt', 'SequenceConstruct', 'SequenceEmpty', 'SequenceErase', 'SequenceInsert', 'SequenceLength']);

/** The other domains: every supported operator is at version 1. */
const OTHER_DOMAINS: Readonly<Record<string, readonly string[]>> = {
  'com.microsoft': [
    'Attention', 'BiasAdd', 'BiasGelu', 'BifurcationDetector', 'DequantizeLinear', 'DynamicQuantizeMatMul', 'EmbedLayerNormalization',
    'FastGelu', 'FusedConv', 'FusedGemm', 'FusedMatMul', 'GatherND', 'Gelu', 'GroupNorm', 'GroupQueryAttention', 'MatMulIntegerToFloat',
    'MatMulNBits', 'Pad', 'QLinearAdd', 'QLinearAveragePool', 'QLinearConcat', 'QLinearLeakyRelu', 'QLinearMul', 'QLinearReduceMean',
    'QLinearSigmoid', 'QLinearSoftmax', 'QLinearWhere', 'QuantizeLinear', 'QuickGelu', 'Range', 'RotaryEmbedding',
    'SimplifiedLayerNormalization', 'SkipLayerNormalization', 'SkipSimplifiedLayerNormalization', 'Trilu',
  ],
  'org.openvinotoolkit': [
    'DeformableConv2D', 'DetectionOutput', 'ExperimentalDetectronDetectionOutput', 'ExperimentalDetectronGenerateProposalsSingleImage',
    'ExperimentalDetectronGroupNorm', 'ExperimentalDetectronPriorGridGenerator', 'ExperimentalDetectronROIFeatureExtractor',
    'ExperimentalDetectronTopKROIs', 'FakeQuantize', 'GenerateProposals', 'GroupNorm', 'Normalize', 'PriorBox', 'PriorBoxClustered', 'Swish',
  ],
  'org.pytorch.aten': ['adaptive_avg_pool2d'],
  mmdeploy: ['MMCVRoIAlignRotated', 'NMSRotated'],
  // The ONNX-ML domain (scikit-learn and other classical models) has one converter.
  'ai.onnx.ml': ['Normalizer'],
};

export interface OperatorProblem {
  /** As the signature names it: `Conv`, or `<domain>:<op>` outside the default domain. */
  operator: string;
  domain: string;
  why: string;
}

export interface OperatorWarning {
  operator: string;
  why: string;
}

/**
 * What OpenVINO's ONNX frontend cannot convert among `operators` (the signature's operator counts,
 * keyed `op` or `domain:op`) at the model's `opsets` (domain to version; the default domain is `ai.onnx`).
 */
export function openvinoOperatorSupport(operators: Readonly<Record<string, number>>, opsets: Readonly<Record<string, number>>): { problems: OperatorProblem[]; warnings: OperatorWarning[] } {
  const problems: OperatorProblem[] = [];
  const warnings: OperatorWarning[] = [];
  for (const key of Object.keys(operators).sort()) {
    const at = key.lastIndexOf(':');
    const domain = at < 0 ? 'ai.onnx' : key.slice(0, at);
    const op = at < 0 ? key : key.slice(at + 1);
    if (domain === 'ai.onnx') {
      const since = AI_ONNX[op];
      const opset = opsets['ai.onnx'] ?? opsets[''];
      if (since === undefined) {
        problems.push({ operator: key, domain, why: OPENVINO_UNSUPPORTED_AI_ONNX.includes(op) ? 'is listed as not supported by OpenVINO\'s ONNX frontend' : 'is not among the operators OpenVINO\'s ONNX frontend converts' });
      } else if (opset !== undefined && opset < since) {
        problems.push({ operator: key, domain, why: `is converted from opset ${since} on, and the model imports opset ${opset}` });
      } else if (PATTERN_ONLY.has(op)) {
        warnings.push({ operator: key, why: 'is converted only in certain patterns (OpenVINO folds sequences it can resolve when converting)' });
      }
      continue;
    }
    const supported = OTHER_DOMAINS[domain];
    if (!supported) problems.push({ operator: key, domain, why: `is in the domain '${domain}', for which OpenVINO's ONNX frontend has no converters` });
    else if (!supported.includes(op)) problems.push({ operator: key, domain, why: `is not among the ${domain} operators OpenVINO's ONNX frontend converts` });
  }
  return { problems, warnings };
}
