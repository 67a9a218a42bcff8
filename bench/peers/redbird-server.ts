// redbird, the Node reverse proxy with a Docker integration (1.x), routing app.test to the origin.
// Run as a program: PORT and ORIGIN_PORT come from the environment.
import { Redbird } from 'redbird';

const proxy = new Redbird({ port: Number(process.env['PORT']), host: '127.0.0.1' });
proxy.register('app.test', `http://127.0.0.1:${process.env['ORIGIN_PORT']}`);
