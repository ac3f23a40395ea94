import { describeKerasReference } from './helpers/keras-ref-suite';
import { REGNET_SIZES } from './helpers/regnet-sizes';

// RegNetX (tf-keras's regnet.py run on Keras 3, test/fixtures/keras-ref): layer tables and outputs.
// X and Y are two files so that the two test workers share the family's long run.
for (const size of REGNET_SIZES) describeKerasReference(`RegNetX${size}`);
