// The model against the real kernels' recorded outcomes (conformance/oracle/<kernel>/...), without
// QEMU: every scenario of examples/ and conformance/scenarios/ that user space can run has a
// recording per kernel, made from the scenario as it is now, and the model under that kernel's
// profile prints the same canonical lines, field by field, except the divergences
// KNOWN-DIVERGENCES.md lists (each of which must still diverge). `npm run test:oracle` re-runs the
// kernels to check the recordings themselves.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import {
  KERNELS, PROFILE_OF, SCENARIO_DIRS, allRecordings, diffLines, isKnown, modelLines, readKnownDivergences, readRecording, repoRoot,
  scenarioFingerprint, scenarioFiles, type StepDiff,
} from '../../oracle/scenarios.js';

const root = repoRoot();
const files = (await scenarioFiles(SCENARIO_DIRS.map((d) => path.join(root, d)))).map((f) => path.relative(root, f).split(path.sep).join('/'));
const known = readKnownDivergences();

test('the catalogue and the examples have recorded real-kernel outcomes', () => {
  assert.ok(files.length > 20, `${files.length} scenarios`);
});

for (const kernel of KERNELS) {
  for (const file of files) {
    const source = readFileSync(path.join(root, file), 'utf8');
    const fp = scenarioFingerprint(source, file, kernel);
    if (fp === null) continue; // not something user space can run (kernel-context steps)
    test(`${kernel} ${file}: the model agrees with the recorded kernel`, () => {
      const rec = readRecording(file, kernel);
      assert.ok(rec, `no recording for ${file} on ${kernel}: run npm run test:oracle -- --update`);
      assert.equal(rec.header['behaviour-sha256'], fp, `the recording of ${file} (${kernel}) is stale: the scenario changed; run npm run test:oracle -- --update`);
      const diffs = diffLines(modelLines(source, file, PROFILE_OF[kernel]), rec.lines);
      const show = (d: StepDiff): string => `step ${d.step} (${d.where}) ${d.field}: model ${d.model ?? '(absent)'}, kernel ${d.kernel ?? '(absent)'}`;
      const unknown = diffs.filter((d) => !isKnown(known, file, kernel, d));
      assert.deepEqual(unknown.map(show), [], `the model disagrees with ${rec.header['package']}; fix the model or list the divergence in KNOWN-DIVERGENCES.md`);
      for (const k of known.filter((x) => x.file === file && x.kernel === kernel)) {
        assert.ok(diffs.some((d) => d.step === k.step && d.field === k.field),
          `KNOWN-DIVERGENCES.md lists ${file} ${kernel} step ${k.step} ${k.field}, which no longer diverges: remove the row`);
      }
    });
  }
}

test('every recording belongs to a scenario that still exists and runs on a kernel', async () => {
  for (const rec of await allRecordings()) {
    assert.ok(existsSync(path.join(root, rec.file)), `${rec.kernel} recording of a missing scenario: ${rec.file}`);
    assert.ok(rec.lines.length > 0, `empty recording ${rec.file} (${rec.kernel})`);
    assert.match(rec.header['package'] ?? '', /^linux-image-\S+ \S+$/, `the recording names the kernel package: ${rec.file}`);
  }
});

test('KNOWN-DIVERGENCES.md rows name existing scenarios, a reason and the issue that fixes them', () => {
  for (const k of known) {
    assert.ok(files.includes(k.file), `unknown scenario in KNOWN-DIVERGENCES.md: ${k.file}`);
    assert.ok(k.reason.length > 0 && k.issue.length > 0, `row for ${k.file} step ${k.step} needs a reason and an issue`);
  }
});
