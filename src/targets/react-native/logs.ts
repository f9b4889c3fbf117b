/** The react-native target's logs: none that deploy-model can read; the model runs inside the app, whose logs are on the device. */
import { logsElsewhere } from '../../kits/logs/logs-elsewhere.js';
import type { LogLine, LogsOptions } from '../../kits/logs/log-line.js';
import type { TargetContext } from '../driver.js';

export function reactNativeLogs(ctx: Pick<TargetContext, 'targetName'>, _options: LogsOptions): AsyncIterable<LogLine> {
  return logsElsewhere({
    targetName: ctx.targetName, type: 'react-native',
    where: "on the devices that run the app: the model runs inside the app, which deploy-model neither builds nor runs; in development, Metro's terminal shows the app's console output",
    commands: ['adb logcat    # Android', 'xcrun simctl spawn booted log stream --predicate \'process == "APP"\'    # an iOS simulator; a device: Console.app or Xcode'],
  });
}
