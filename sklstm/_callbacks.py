"""Keras callbacks used while training."""

import keras


class EarlyStoppingBest(keras.callbacks.EarlyStopping):
    """Early stopping that always ends on the best weights.

    Keras' own callback restores the best weights only when it stops training early; when the
    last epoch is reached first, the model would keep the last epoch's weights instead.
    """

    def __init__(self, patience):
        super().__init__(monitor="val_loss", patience=patience, restore_best_weights=True)

    def on_train_end(self, logs=None):
        if self.stopped_epoch == 0 and self.best_weights is not None:
            self.model.set_weights(self.best_weights)
        super().on_train_end(logs)
