"""Reference outputs: TFLite Micro's interpreter for TFLite models, IREE's default compilation otherwise."""
