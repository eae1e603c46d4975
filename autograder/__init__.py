"""Grades students' convolution code against tf.nn.conv2d, isolated and explained."""
