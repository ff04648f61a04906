// The real kernels' recorded canonical lines (conformance/oracle/<kernel>/<scenario>.out), for tests
// that settle a catalogue [verify] with what the kernels did.
import { readRecording, type KernelSeries } from '../../oracle/scenarios.js';

export const ORACLE_KERNELS: readonly KernelSeries[] = ['6.1', '6.12'];

/** The recorded canonical line of one step; throws if the recording or the step is missing. */
export function recordedStep(kernel: KernelSeries, scenario: string, step: number): string {
  const rec = readRecording(scenario, kernel);
  if (!rec) throw new Error(`no ${kernel} recording of ${scenario} (npm run test:oracle -- --update)`);
  const line = rec.lines.find((l) => l.startsWith(`STEP ${step} `));
  if (!line) throw new Error(`${scenario} (${kernel}) has no step ${step}`);
  return line;
}
