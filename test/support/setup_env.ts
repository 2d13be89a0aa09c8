// Test mode for tfjs: the engine then checks every kernel for leaked data ids, and Node's
// "install tfjs-node" banner stays quiet.
import {env} from '@tensorflow/tfjs-core';

env().set('IS_TEST', true);
