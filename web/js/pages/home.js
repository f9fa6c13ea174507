import { layout } from '../layout.js';

layout();
