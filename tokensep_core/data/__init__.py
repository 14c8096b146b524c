"""Data: synthetic song renderers, dataset kinds (MUSDB18-HQ, stems folders, synthetic) and
training-time sampling with augmentation. See docs/data.md."""
