// fastify hello world, logger off, the same body as the other entries.
import Fastify from 'fastify';

const app = Fastify({ logger: false });
app.get('/', (_request, reply) => {
  reply.type('text/plain').send('Hello World\n');
});
await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
