"""Where and how models run: device selection and numeric precision."""
