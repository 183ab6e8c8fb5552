// CLI: `trustgate` (the embedded demo), `trustgate serve <config.yaml>`, `trustgate check-config <file>`.
// Reads and validates the whole config before anything listens; shuts down cleanly on SIGINT/SIGTERM.
import { fileURLToPath } from 'node:url';
import { isGatewayError } from './errors.ts';
import { loadConfigFile } from './config/load-config.ts';
import { createGateway } from './gateway.ts';

const DEMO_CONFIG = fileURLToPath(new URL('../config/trustgate.yaml', import.meta.url));
const USAGE = `Usage:
  trustgate                         run the demo (development IdP, Fleet simulator, demo app, gateway)
  trustgate serve <config.yaml>     run the gateway with a config file
  trustgate check-config <file>     validate a config file and exit (0 = valid)`;

async function main(argv: string[]): Promise<number> {
  const [command, file, ...rest] = argv;
  if (command === undefined) {
    const { startDemo } = await import('./dev/start-demo.ts');
    const demo = await startDemo(DEMO_CONFIG);
    onSignals(() => demo.close());
    return -1;
  }
  if (command === 'check-config' && file && rest.length === 0) {
    await loadConfigFile(file);
    console.log(`${file}: configuration is valid`);
    return 0;
  }
  if (command === 'serve' && file && rest.length === 0) {
    const config = await loadConfigFile(file);
    const gateway = createGateway(config, { configFile: file });
    const bound = await gateway.listen();
    for (const listener of bound) gateway.runtime().log.info({ url: listener.url }, 'trustgate listening');
    onSignals(() => gateway.close());
    return -1;
  }
  if (command === '--help' || command === '-h' || command === 'help') {
    console.log(USAGE);
    return 0;
  }
  console.error(USAGE);
  return 2;
}

function onSignals(close: () => Promise<void>): void {
  let closing = false;
  const stop = (): void => {
    if (closing) process.exit(1);
    closing = true;
    close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (error: unknown) => {
    // Start-up failures are explained in one message, never a stack trace.
    if (isGatewayError(error)) console.error(`trustgate: ${error.message}`);
    else if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      console.error(`trustgate: address already in use (${(error as NodeJS.ErrnoException & { address?: string; port?: number }).address}:${(error as { port?: number }).port}); stop the other process or change the port`);
    } else console.error(`trustgate: ${(error as Error).message ?? String(error)}`);
    process.exitCode = 1;
  },
);
