"""Pure array functions (arrays in, arrays out): padding, im2col/col2im, convolution, pooling.

Kernels keep the input's dtype, take already-normalized tuples and never validate user input;
layers validate at the door.
"""
