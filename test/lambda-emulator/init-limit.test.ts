import { describe, expect, it } from 'vitest';
import { IoHelper, RecordingIoHost } from '../../src/io/io-host.js';
import { emulatorFixture, started } from './_support.js';

// Lambda's init phase: 10 s; an init still running then is stopped, and runs again inside the
// first invocation, within that invocation's timeout (the Lambda developer guide, "Init phase").
describe('an init longer than Lambda\'s 10 s', () => {
  it('is stopped at 10 s, runs again inside the first request, and is reported with the time it took', async () => {
    // GIVEN two functions whose init takes 10.5 s: one with room for it in its timeout, one without
    const hostRoom = new RecordingIoHost();
    const hostTight = new RecordingIoHost();
    const t0 = Date.now();
    const [room, tight] = await Promise.all([
      started({ functionName: 'slow-init', codeDir: emulatorFixture('slow-init'), env: { INIT_SLEEP_MS: '10500' }, timeoutSeconds: 20, io: new IoHelper(hostRoom) }),
      started({ functionName: 'slow-init-tight', codeDir: emulatorFixture('slow-init'), env: { INIT_SLEEP_MS: '10500' }, timeoutSeconds: 3, io: new IoHelper(hostTight) }),
    ]);

    // THEN start gave up on init at 10 s, without an init error: the first request runs it again
    expect(Date.now() - t0).toBeLessThan(14_000);
    for (const fn of [room, tight]) {
      expect(fn.stats().recentLogs.join('\n')).toMatch(/INIT_REPORT Init Duration: 10\d{3}\.\d\d ms\tPhase: init\tStatus: timeout/);
      expect(fn.stats().initError).toBeUndefined();
    }

    // WHEN each is invoked
    const [ok, timedOut] = await Promise.all([room.invoke({}), tight.invoke({})]);

    // THEN the one with room answers after the whole init, which counts in its duration
    expect(ok.functionError).toBeUndefined();
    expect((ok.payload as { initMs: number }).initMs).toBeGreaterThanOrEqual(10_500);
    expect(ok.durationMs).toBeGreaterThanOrEqual(10_500);
    expect(ok.logs).toMatch(/REPORT RequestId: \S+\tDuration: 1\d{4}\.\d\d ms/);
    expect(ok.logs).not.toMatch(/REPORT.*Init Duration/);
    expect(room.stats()).toMatchObject({ coldStarts: 2, maxInitDurationMs: expect.any(Number) });
    expect(room.stats().maxInitDurationMs).toBeGreaterThanOrEqual(10_500);
    // AND the slow init is a warning with the measured time: the cold start users will see
    const warning = hostRoom.messages.find((m) => m.code === 'DM_LOCAL_SLOW_INIT');
    expect(warning).toMatchObject({ level: 'warn', message: expect.stringMatching(/^Init of slow-init took 1\d\.\d s, over Lambda's 10 s init limit/) });
    expect((warning?.data as { initMs: number }).initMs).toBeGreaterThanOrEqual(10_500);

    // AND the one without room times out, as on Lambda, and says why
    expect(timedOut.payload).toMatchObject({ errorType: 'Sandbox.Timedout', errorMessage: expect.stringContaining('Task timed out after 3.00 seconds') });
    expect(hostTight.messages.find((m) => m.code === 'DM_LOCAL_SLOW_INIT')?.message).toMatch(/did not finish within Lambda's 10 s init limit, and failed again inside the first request \(Sandbox\.Timedout\)/);
  });
});
