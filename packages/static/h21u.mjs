import { HTTPServer } from '@srv/http';
import { SimpleHTTPRequestHandler } from '@srv/static';
const s = new HTTPServer('unix:/tmp/h21.sock', SimpleHTTPRequestHandler);
await s.ready; console.log(s.address);
const r = await new Promise((res)=>{ import('node:http').then(h=>h.get({socketPath:'/tmp/h21.sock', path:'/'}, x=>res(x.statusCode)));});
console.log(r); await s.close();
