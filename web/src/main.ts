import './style.css';
import { App } from './app.js';

const app = new App();
// A handle for the browser test and for curious users in the console.
(window as unknown as { gupsim: App }).gupsim = app;
document.documentElement.dataset.ready = 'true';
