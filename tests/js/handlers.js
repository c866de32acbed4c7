// Handlers written with the official JS SDK, run on `eventflow serve` through aws-lambda-ric.
const fs = require("node:fs");
const { withDurableExecution } = require("@aws/durable-execution-sdk-js");

exports.workflow = withDurableExecution(async (event, context) => {
  const first = await context.step("first", async () => event.n + 1);
  await context.wait("pause", { seconds: 30 });
  const inner = await context.runInChildContext("inner", async (child) => {
    return await child.step("second", async () => first * 10);
  });
  return { inner, pid: process.pid };
});

exports.fanout = withDurableExecution(async (event, context) => {
  const squares = await context.map("squares", event.items, async (ctx, item) =>
    ctx.step(async () => item * item),
  );
  const letters = await context.parallel("letters", [
    async (ctx) => ctx.step(async () => "a"),
    async (ctx) => ctx.step(async () => "b"),
  ]);
  return { squares: squares.getResults(), letters: letters.getResults() };
});

exports.review = withDurableExecution(async (event, context) => {
  const answer = await context.waitForCallback("review", async (callbackId) => {
    fs.writeFileSync(event.fifo, callbackId); // blocks until the test reads the FIFO
  });
  return { answer };
});

exports.retries = withDurableExecution(async (event, context) => {
  return await context.step(
    "flaky",
    async () => {
      fs.appendFileSync(event.marker, "x");
      const attempt = fs.readFileSync(event.marker, "utf8").length;
      if (attempt < 2) throw new Error(`attempt ${attempt} fails`);
      return attempt;
    },
    { retryStrategy: (error, attempt) => ({ shouldRetry: attempt < 3, delay: { seconds: 2 } }) },
  );
});
