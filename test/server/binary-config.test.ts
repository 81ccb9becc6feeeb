// BINARY_MAX_BYTES: the default, sizes with units, and refusals that name the setting; loaded into Config.
import { DEFAULT_BINARY_MAX_BYTES, loadBinaryConfig } from '../../server/binary-config';
import { ConfigError, loadConfig } from '../../server/config';

test('the default is 50 MB; sizes take units', () => {
  expect(loadBinaryConfig({})).toEqual({ maxBytes: 50 * 1024 * 1024 });
  expect(DEFAULT_BINARY_MAX_BYTES).toBe(50 * 1024 * 1024);
  expect(loadBinaryConfig({ BINARY_MAX_BYTES: '10mb' }).maxBytes).toBe(10 * 1024 * 1024);
  expect(loadBinaryConfig({ BINARY_MAX_BYTES: '2048' }).maxBytes).toBe(2048);
  expect(loadConfig({ BINARY_MAX_BYTES: '1kb' }).binary.maxBytes).toBe(1024);
});

test('a value that is not a size, zero, or beyond 256 MB is refused naming the setting', () => {
  for (const value of ['lots', '0', '300mb']) {
    expect(() => loadBinaryConfig({ BINARY_MAX_BYTES: value })).toThrow(ConfigError);
    expect(() => loadBinaryConfig({ BINARY_MAX_BYTES: value })).toThrow(/BINARY_MAX_BYTES/);
  }
});
